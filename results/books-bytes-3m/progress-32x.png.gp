set terminal pngcairo size 1000,640 enhanced font 'Sans,11'
set output "results/books-bytes-3m/progress-32x.png"
set title "Search progress"
set xlabel "generation"
set ylabel "perplexity on the search set"
set grid
set key outside right top
set datafile missing 'nan'
set logscale y
plot "results/books-bytes-3m/progress-32x.png.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "32x-8192 best", \
     "results/books-bytes-3m/progress-32x.png.dat" index 1 using 1:2 with lines linewidth 2 title "32x-8192 parents' mean"
