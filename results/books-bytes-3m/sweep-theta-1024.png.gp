set terminal pngcairo size 1000,640 enhanced font 'Sans,11'
set output "results/books-bytes-3m/sweep-theta-1024.png"
set title "Perplexity vs RoPE base θ (3 documents)"
set xlabel "RoPE base θ"
set ylabel "perplexity"
set grid
set key outside right top
set datafile missing 'nan'
set logscale x 2
set logscale y
set arrow from 10000,graph 0 to 10000,graph 1 nohead dashtype 2 linecolor rgb '#666666'
set label "trained θ 10000" at 10000,graph 0.97 right offset -0.5,0 textcolor rgb '#666666'
plot "results/books-bytes-3m/sweep-theta-1024.png.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "length 1024"
