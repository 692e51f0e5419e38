set terminal svg size 1000,640 dynamic enhanced font 'Sans,11'
set output "results/books-bytes-3m-l64/lambda-8x-512x.svg"
set title "Rescale factors at s = 8, 16, 32, 64, 128, 256, 512 (L = 64, base 27)"
set xlabel "frequency index i (0 = highest frequency)"
set ylabel "rescale factor λ_i"
set grid
set key outside right top
set datafile missing 'nan'
set logscale y
plot "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 8x-512 (n̂=24)", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 1 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 16x-1024", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 2 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 32x-2048", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 3 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 64x-4096 (n̂=32)", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 4 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 128x-8192", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 5 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 256x-16384", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 6 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 512x-32768 (n̂=32)", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 7 using 1:2 with lines linewidth 2 title "YaRN s = 8", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 8 using 1:2 with lines linewidth 2 title "YaRN s = 16", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 9 using 1:2 with lines linewidth 2 title "YaRN s = 32", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 10 using 1:2 with lines linewidth 2 title "YaRN s = 64", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 11 using 1:2 with lines linewidth 2 title "YaRN s = 128", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 12 using 1:2 with lines linewidth 2 title "YaRN s = 256", \
     "results/books-bytes-3m-l64/lambda-8x-512x.svg.dat" index 13 using 1:2 with lines linewidth 2 title "YaRN s = 512"
