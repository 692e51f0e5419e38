set terminal svg size 1000,640 dynamic enhanced font 'Sans,11'
set output "results/books-bytes-3m-l64/curve/curve.svg"
set title "Perplexity vs context length (8 documents)"
set xlabel "context length (tokens)"
set ylabel "perplexity"
set grid
set key outside right top
set datafile missing 'nan'
set logscale x 2
set logscale y
set arrow from 64,graph 0 to 64,graph 1 nohead dashtype 2 linecolor rgb '#666666'
set label "original length 64" at 64,graph 0.97 right offset -0.5,0 textcolor rgb '#666666'
plot "results/books-bytes-3m-l64/curve/curve.svg.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "none", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 1 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "pi", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 2 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "ntk", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 3 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "dynamic-ntk", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 4 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "yarn", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 5 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (8x-512)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 6 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (16x-1024)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 7 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (32x-2048)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 8 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (64x-4096)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 9 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (128x-8192)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 10 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (256x-16384)", \
     "results/books-bytes-3m-l64/curve/curve.svg.dat" index 11 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (512x-32768)"
